-- Nexmark q0: pass-through. Every bid is read, decoded, re-encoded and
-- written: the cost of the I/O and the codecs alone.
-- Standard text: SELECT auction, bidder, price, dateTime, extra FROM bid;
-- No rewrite.
CREATE STREAM nexmark_q0 WITH (KAFKA_TOPIC='nexmark-q0', VALUE_FORMAT='JSON') AS
  SELECT auction, bidder, price, dateTime, extra
  FROM bid
  EMIT CHANGES;
