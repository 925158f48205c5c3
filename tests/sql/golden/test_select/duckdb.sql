SELECT users.id, users.name AS who, users.age + $1 AS next_age, upper(users.city) AS upper_city
FROM users
