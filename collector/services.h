/* services.h — the services the collector serves, each defined in its folder. */
#ifndef TW_COLLECTOR_SERVICES_H
#define TW_COLLECTOR_SERVICES_H

#include "call.h"

extern const tw_service tw_logs_service;            /* logs/logs_service.c */
extern const tw_service tw_monitoring_service;      /* metrics/metrics_service.c */
extern const tw_service tw_cloudtrail_service;      /* cloudtrail/cloudtrail_service.c */
extern const tw_service tw_cloudtrail_data_service; /* cloudtrail/audit_ingest.c */

#endif
