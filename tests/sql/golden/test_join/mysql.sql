SELECT users.name, orders.amount
FROM users INNER JOIN orders ON users.id = orders.user_id
WHERE orders.status = %(p0)s
