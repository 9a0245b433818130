"""Small query functions, one module per area; they take a session and never commit."""
