-- Nexmark q1: currency conversion, dollars to euros.
-- Standard text: SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid;
-- No rewrite: as in ksqlDB, 0.908 is a DECIMAL literal, so price becomes a
-- DECIMAL (Flink's Nexmark also computes it as DECIMAL).
CREATE STREAM nexmark_q1 WITH (KAFKA_TOPIC='nexmark-q1', VALUE_FORMAT='JSON') AS
  SELECT auction, bidder, 0.908 * price AS price, dateTime, extra
  FROM bid
  EMIT CHANGES;
