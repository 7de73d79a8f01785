/* audit_ingest.h — CloudTrail data ingestion (cloudtrail-data, REST-JSON
 * PutAuditEvents, spec/cloudtrail.md §6): the service is
 * tw_cloudtrail_data_service (services.h); this header gives the rest of
 * the collector what it needs beside it.
 *
 * Accepted events are stored in the event history's "events" table
 * (category "ActivityAuditLog", lookup = 1: LookupEvents finds them by
 * EventName, EventSource, Username = userIdentity.principalId, EventId, and
 * ReadOnly when additionalEventData.readOnly is a boolean).
 * The ids already ingested, per channel, are kept 24 hours in
 * "audit_event_ids" (component "audit_events"), so that a repeated id is
 * answered with its first eventID and stored once.
 */
#ifndef TW_AUDIT_INGEST_H
#define TW_AUDIT_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define TW_AUDIT_DEDUP_MS (24 * 3600 * INT64_C(1000))

/* A write job step: forgets at most budget ids ingested more than 24 hours
 * before now_ms. *deleted gets the count, *more whether older ones remain.
 * Returns 0 or -EIO. (The event history's sweep runs it.) */
int tw_audit_ingest_expire(tw_db *db, int64_t now_ms, size_t budget, size_t *deleted,
                           bool *more);

/* The migrations of "audit_event_ids" (also tw_cloudtrail_data_service's). */
extern const tw_migration tw_audit_ingest_migrations[];

#endif
