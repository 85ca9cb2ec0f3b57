"""Storage: the service's database schema, its repository of predictions and feedback, exports."""
