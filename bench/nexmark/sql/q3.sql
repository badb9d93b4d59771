-- Nexmark q3: local item suggestion, the sellers in Oregon, Idaho and
-- California of auctions in category 10.
-- Standard text:
--   SELECT P.name, P.city, P.state, A.id
--   FROM auction A INNER JOIN person P ON A.seller = P.id
--   WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');
-- Rewrites:
--   * ksqlDB has no unbounded stream-stream join (a WITHIN is mandatory), so
--     persons are read as a TABLE keyed by id (the loader keys person records
--     by id). Nexmark persons never change and a seller always exists before
--     their auctions, so the stream-table join gives the standard result.
--   * ksqlDB requires the join key in the projection: A.seller is added.
CREATE TABLE person_by_id (id BIGINT PRIMARY KEY, name STRING, emailAddress STRING,
    creditCard STRING, city STRING, state STRING, dateTime BIGINT, extra STRING)
  WITH (KAFKA_TOPIC='nexmark-person', VALUE_FORMAT='JSON', TIMESTAMP='dateTime');

CREATE STREAM nexmark_q3 WITH (KAFKA_TOPIC='nexmark-q3', VALUE_FORMAT='JSON') AS
  SELECT A.seller AS seller, P.name AS name, P.city AS city, P.state AS state, A.id AS id
  FROM auction A
  JOIN person_by_id P ON A.seller = P.id
  WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
  EMIT CHANGES;
