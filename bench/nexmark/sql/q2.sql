-- Nexmark q2: selection, the bids on every 123rd auction.
-- Standard text: SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0;
-- Rewrite: ksqlDB has no MOD function; the % operator is the same for the
-- non-negative ids Nexmark generates.
CREATE STREAM nexmark_q2 WITH (KAFKA_TOPIC='nexmark-q2', VALUE_FORMAT='JSON') AS
  SELECT auction, price
  FROM bid
  WHERE auction % 123 = 0
  EMIT CHANGES;
