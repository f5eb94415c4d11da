"""Packages: installing, upgrading, exporting and uninstalling them."""
