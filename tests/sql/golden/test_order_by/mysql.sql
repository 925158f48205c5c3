SELECT users.name
FROM users ORDER BY users.city IS NULL ASC, users.city ASC, users.age IS NULL DESC, users.age DESC, users.name ASC
