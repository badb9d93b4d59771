-- Nexmark q7: highest bid, the bids with the highest price in each
-- tumbling window of 10 seconds.
-- Standard text:
--   SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
--   FROM bid B
--   JOIN (SELECT MAX(price) AS maxprice, TUMBLE_ROWTIME(dateTime, INTERVAL '10' SECOND) AS dateTime
--         FROM bid GROUP BY TUMBLE(dateTime, INTERVAL '10' SECOND)) B1
--   ON B.price = B1.maxprice
--   WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime;
-- Rewrites:
--   * ksqlDB has no subqueries and cannot group by a window alone: the
--     maximum is a table grouped by the window start computed from event
--     time, (dateTime / 10000) * 10000, which is what a 10-second tumbling
--     window aligned to the epoch assigns.
--   * The bids join that table on the same window start, with the price
--     test in WHERE; ksqlDB requires the join key in the projection, so
--     starttime is added.
--   * The stream-table join sees the maximum so far when a bid arrives: a
--     bid that raises the maximum passes, so every running maximum of a
--     window is emitted, the window's highest bid last (the standard answer
--     is the last row per window).
CREATE TABLE nexmark_q7_max WITH (KAFKA_TOPIC='nexmark-q7-max', VALUE_FORMAT='JSON') AS
  SELECT (dateTime / 10000) * 10000 AS starttime, MAX(price) AS maxprice
  FROM bid
  GROUP BY (dateTime / 10000) * 10000
  EMIT CHANGES;

CREATE STREAM nexmark_q7 WITH (KAFKA_TOPIC='nexmark-q7', VALUE_FORMAT='JSON') AS
  SELECT M.starttime AS starttime, B.auction AS auction, B.price AS price, B.bidder AS bidder,
         B.dateTime AS dateTime, B.extra AS extra
  FROM bid B
  JOIN nexmark_q7_max M ON (B.dateTime / 10000) * 10000 = M.starttime
  WHERE B.price = M.maxprice
  EMIT CHANGES;
