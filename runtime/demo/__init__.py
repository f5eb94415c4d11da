"""The demo company behind `loom demo`: needs the `demo` extra (Faker), and nothing else loads it."""
