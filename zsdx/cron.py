"""The schedule of the production shape: `rq cron zsdx/cron.py --url $REDIS_URL` (one process)."""

import os

from rq import cron

from zsdx.jobs import retry_undelivered, send_reminders

QUEUE = os.environ.get("RQ_QUEUE", "zsdx")

cron.register(send_reminders, queue_name=QUEUE, interval=int(os.environ.get("REMINDER_INTERVAL_SECONDS", 3600)))
cron.register(retry_undelivered, queue_name=QUEUE, interval=300)
