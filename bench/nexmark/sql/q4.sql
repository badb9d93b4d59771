-- Nexmark q4: average closing price per category.
-- Standard text:
--   SELECT Q.category, AVG(Q.final)
--   FROM (SELECT MAX(B.price) AS final, A.category
--         FROM auction A, bid B
--         WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
--         GROUP BY A.id, A.category) Q
--   GROUP BY Q.category;
-- Rewrites:
--   * ksqlDB has no subqueries: the inner query is a table of its own,
--     nexmark_q4_max, and the outer one aggregates that table.
--   * A stream-stream join needs WITHIN: 10 seconds after the auction covers
--     the longest auction the generator makes at any rate of 334 events/s
--     or more (lifetimes are up to 2 x 100 auctions' worth of events); the
--     exact lifetime is the BETWEEN filter, as in the standard text.
--   * "final" is a keyword in ksqlDB (EMIT FINAL): the column is final_price.
--   * The inner table has two key columns, which the KAFKA key format cannot
--     hold: FORMAT='JSON' makes its key JSON too.
CREATE TABLE nexmark_q4_max WITH (KAFKA_TOPIC='nexmark-q4-max', FORMAT='JSON') AS
  SELECT A.id AS id, A.category AS category, MAX(B.price) AS final_price
  FROM auction A
  JOIN bid B WITHIN (0 SECONDS, 10 SECONDS) ON A.id = B.auction
  WHERE B.dateTime BETWEEN A.dateTime AND A.expires
  GROUP BY A.id, A.category
  EMIT CHANGES;

CREATE TABLE nexmark_q4 WITH (KAFKA_TOPIC='nexmark-q4', VALUE_FORMAT='JSON') AS
  SELECT category, AVG(final_price) AS avg_price
  FROM nexmark_q4_max
  GROUP BY category
  EMIT CHANGES;
