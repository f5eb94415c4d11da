"""Running Loom's processes: `deploy.local` starts a deployment's three processes on one machine."""
