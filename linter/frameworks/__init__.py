"""Framework models every rule family shares: what each framework makes a request input, a handler, a
validation schema, a database client or a lifecycle hook, defined once per framework."""
