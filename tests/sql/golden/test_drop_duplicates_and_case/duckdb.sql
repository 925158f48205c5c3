SELECT d_0.user_id, CASE WHEN (d_0.amount > $1) THEN $2 ELSE $3 END AS size
FROM (SELECT orders.id AS id, orders.user_id AS user_id, orders.amount AS amount, orders.status AS status, orders.placed AS placed, row_number() OVER (PARTITION BY orders.user_id ORDER BY orders.user_id) AS __moltres_rn
FROM orders) AS d_0
WHERE d_0.__moltres_rn = $4
