SELECT users.name
FROM users ORDER BY users.city ASC NULLS LAST, users.age DESC NULLS FIRST, users.name ASC
