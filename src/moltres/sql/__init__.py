"""The compiler: logical plans and expressions to SQLAlchemy Core, one dialect module each."""
