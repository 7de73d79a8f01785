/* services.c — the table of every service the collector serves. Each
 * service is defined in its own folder (services.h); the order here is the
 * order of their migrations and of the signing names SigV4 accepts. */
#include "collector.h"
#include "services.h"

const tw_service *const tw_collector_services[] = {
    &tw_logs_service,
    &tw_monitoring_service,
    &tw_cloudtrail_service,
    &tw_cloudtrail_data_service,
    NULL,
};
