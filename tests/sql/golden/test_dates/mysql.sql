SELECT CAST(EXTRACT(year FROM orders.placed) AS SIGNED INTEGER) AS y, CAST(date_format(orders.placed, %s) AS DATE) AS month, date_add(date(orders.placed), INTERVAL %s DAY) AS week_later, datediff(orders.placed, %s) AS days
FROM orders
