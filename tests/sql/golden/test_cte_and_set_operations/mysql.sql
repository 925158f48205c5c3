WITH adults AS
(SELECT users.id AS id, users.name AS name, users.age AS age, users.city AS city, users.born AS born
FROM users
WHERE users.age >= %(p0)s)
 SELECT DISTINCT u_0.id
FROM (SELECT adults.id AS id
FROM adults EXCEPT SELECT orders.user_id AS id
FROM orders) AS u_0
