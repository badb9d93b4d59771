-- Nexmark q8: monitor new users, the persons who opened an auction in the
-- same 10-second tumbling window in which they registered.
-- Standard text:
--   SELECT P.id, P.name, P.starttime
--   FROM (SELECT id, name, TUMBLE_START(dateTime, INTERVAL '10' SECOND) AS starttime, ...
--         FROM person GROUP BY id, name, TUMBLE(dateTime, INTERVAL '10' SECOND)) P
--   JOIN (SELECT seller, TUMBLE_START(dateTime, INTERVAL '10' SECOND) AS starttime, ...
--         FROM auction GROUP BY seller, TUMBLE(dateTime, INTERVAL '10' SECOND)) A
--   ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;
-- Rewrites:
--   * ksqlDB's windowed join is a band (WITHIN), not aligned tumbling
--     windows: the join takes auctions within 10 seconds of the person and
--     WHERE keeps the pairs in the same epoch-aligned 10-second window.
--   * No subqueries to deduplicate auctions per seller and window: a person
--     with several auctions in the window appears once per auction (the
--     standard answer is the distinct rows).
CREATE STREAM nexmark_q8 WITH (KAFKA_TOPIC='nexmark-q8', VALUE_FORMAT='JSON') AS
  SELECT P.id AS id, P.name AS name, (P.dateTime / 10000) * 10000 AS starttime
  FROM person P
  JOIN auction A WITHIN 10 SECONDS ON P.id = A.seller
  WHERE P.dateTime / 10000 = A.dateTime / 10000
  EMIT CHANGES;
