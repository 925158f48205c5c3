SELECT u_0.name
FROM (SELECT users.name AS name
FROM users
WHERE EXISTS (SELECT %(param_1)s AS anon_1
FROM orders
WHERE users.id = orders.user_id) UNION ALL SELECT users.name AS name
FROM users
WHERE NOT (EXISTS (SELECT %(param_2)s AS anon_2
FROM (SELECT orders.id AS id, orders.user_id AS user_id, orders.amount AS amount, orders.status AS status, orders.placed AS placed
FROM orders
WHERE orders.amount > %(p0)s) AS orders
WHERE users.id = orders.user_id))) AS u_0
