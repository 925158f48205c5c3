SELECT u.name, o.amount
FROM users AS u LEFT OUTER JOIN orders AS o ON u.id = o.user_id AND o.amount > %(p0)s
