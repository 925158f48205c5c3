SELECT orders.id, row_number() OVER (PARTITION BY orders.user_id ORDER BY orders.placed ASC) AS rn, sum(orders.amount) OVER (PARTITION BY orders.user_id ORDER BY orders.placed ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running, lag(orders.amount, 1, ?) OVER (PARTITION BY orders.user_id ORDER BY orders.placed ASC) AS prev, rank() OVER (ORDER BY orders.amount DESC) AS rank
FROM orders
