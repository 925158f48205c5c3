SELECT t_0.user_id, t_0.amount
FROM (SELECT orders.id AS id, orders.user_id AS user_id, orders.amount AS amount, orders.status AS status, orders.placed AS placed, row_number() OVER (PARTITION BY orders.user_id ORDER BY orders.amount DESC) AS rn
FROM orders) AS t_0
WHERE t_0.rn = %(p0)s
