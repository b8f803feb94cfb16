"""The services behind the GraphQL context: the store, the presenter, auth."""
