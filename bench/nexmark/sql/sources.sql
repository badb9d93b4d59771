-- The Nexmark event streams, one topic per kind (see package nexmark).
-- dateTime is the event time in milliseconds since the epoch, declared
-- BIGINT and named by TIMESTAMP so ROWTIME is event time; windows (q5, q7,
-- q8) are then in event time, as Nexmark specifies.
CREATE STREAM person (id BIGINT, name STRING, emailAddress STRING, creditCard STRING,
    city STRING, state STRING, dateTime BIGINT, extra STRING)
  WITH (KAFKA_TOPIC='nexmark-person', VALUE_FORMAT='JSON', TIMESTAMP='dateTime');

CREATE STREAM auction (id BIGINT, itemName STRING, description STRING, initialBid BIGINT,
    reserve BIGINT, dateTime BIGINT, expires BIGINT, seller BIGINT, category BIGINT, extra STRING)
  WITH (KAFKA_TOPIC='nexmark-auction', VALUE_FORMAT='JSON', TIMESTAMP='dateTime');

CREATE STREAM bid (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING,
    dateTime BIGINT, extra STRING)
  WITH (KAFKA_TOPIC='nexmark-bid', VALUE_FORMAT='JSON', TIMESTAMP='dateTime');
