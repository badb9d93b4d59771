-- Nexmark q5: hot items, the auctions with the most bids in each hopping
-- window of 10 seconds every 2 seconds.
-- Standard text:
--   SELECT AuctionBids.auction, AuctionBids.num
--   FROM (SELECT auction, count(*) AS num, HOP_START(...) AS starttime
--         FROM bid GROUP BY auction, HOP(dateTime, INTERVAL '2' SECOND, INTERVAL '10' SECOND)) AuctionBids
--   JOIN (SELECT max(num) AS maxn, starttime
--         FROM (<the same counts>) CountBids GROUP BY starttime) MaxBids
--   ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.num >= MaxBids.maxn;
-- Rewrites:
--   * ksqlDB has no subqueries: the counts are a windowed table, emitted once
--     per closed window (EMIT FINAL), read back as a stream; the maximum per
--     window is a table over that stream, and the final step joins the two.
--   * The window start and the auction are copied into the value
--     (WINDOWSTART, AS_VALUE) so the stream over the counts topic needs no
--     windowed key.
--   * The stream-table join sees the maximum as it is when a count arrives;
--     all counts of a window arrive together (EMIT FINAL), so a count that is
--     the window's maximum always passes, and an earlier, smaller count of the
--     same window can pass too (the standard answer is a subset of ours).
CREATE TABLE nexmark_q5_counts WITH (KAFKA_TOPIC='nexmark-q5-counts', VALUE_FORMAT='JSON') AS
  SELECT auction, AS_VALUE(auction) AS auction_id, COUNT(*) AS num, WINDOWSTART AS starttime
  FROM bid
  WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS)
  GROUP BY auction
  EMIT FINAL;

CREATE STREAM nexmark_q5_counts_s (auction_id BIGINT, num BIGINT, starttime BIGINT)
  WITH (KAFKA_TOPIC='nexmark-q5-counts', VALUE_FORMAT='JSON');

CREATE TABLE nexmark_q5_max WITH (KAFKA_TOPIC='nexmark-q5-max', VALUE_FORMAT='JSON') AS
  SELECT starttime, MAX(num) AS maxn
  FROM nexmark_q5_counts_s
  GROUP BY starttime
  EMIT CHANGES;

CREATE STREAM nexmark_q5 WITH (KAFKA_TOPIC='nexmark-q5', VALUE_FORMAT='JSON') AS
  SELECT C.starttime AS starttime, C.auction_id AS auction, C.num AS num
  FROM nexmark_q5_counts_s C
  JOIN nexmark_q5_max M ON C.starttime = M.starttime
  WHERE C.num >= M.maxn
  EMIT CHANGES;
