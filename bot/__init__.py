"""Domain core of the customer-harassment consultation assistant."""
