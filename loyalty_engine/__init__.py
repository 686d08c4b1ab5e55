"""loyalty_engine: exact, pure loyalty calculation."""
