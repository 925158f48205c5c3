SELECT CAST(EXTRACT(year FROM orders.placed) AS SIGNED INTEGER) AS y, CAST(date_format(orders.placed, %(date_format_1)s) AS DATE) AS month, date_add(date(orders.placed), INTERVAL %(p0)s DAY) AS week_later, datediff(orders.placed, %(p1)s) AS days
FROM orders
