"""One RQ worker delivering N notifications (issue 12 target: 10,000 in < 30 s).

Writes N undelivered notifications (send_sms) for demo users into the database, queues their delivery the way
the app does (zsdx.jobs.batches → deliver_notifications jobs) on a queue of its own, then times one
`rq worker --burst -w zsdx.worker.ZsdxWorker` draining it, and checks every row was delivered exactly once.

    DATABASE_URL=postgresql://postgres@127.0.0.1/zsdx_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/notifications.py --count 10000
"""

import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--queue", default="zsdx_bench_notify")
    args = ap.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL and REDIS_URL")
    os.environ["RQ_QUEUE"] = args.queue
    from redis import Redis
    from rq import Queue
    from sqlalchemy import func

    from zsdx import create_app
    from zsdx.extensions import db
    from zsdx.jobs import batches, deliver_notifications
    from zsdx.models import Notification, NotificationKind, ZsdxUser

    app = create_app()
    tag = f"bench-notify-{os.getpid()}"
    with app.app_context():
        users = [u for (u,) in db.session.query(ZsdxUser.id).filter(ZsdxUser.phone.isnot(None)).limit(50)]
        db.session.bulk_insert_mappings(
            Notification,
            [
                {
                    "user_id": users[i % len(users)],
                    "kind": NotificationKind.REVIEW,
                    "text": f"{tag} {i}",
                    "send_sms": True,
                    "delivery_attempts": 0,
                    "is_read": False,
                }
                for i in range(args.count)
            ],
        )
        db.session.commit()
        ids = [n for (n,) in db.session.query(Notification.id).filter(Notification.text.like(f"{tag} %"))]
    queue = Queue(args.queue, connection=Redis.from_url(os.environ["REDIS_URL"]))
    queue.empty()
    for batch in batches(ids):
        queue.enqueue(deliver_notifications, batch, job_timeout=600)
    print(f"{len(ids)} notifications in {queue.count} jobs on {args.queue}", flush=True)
    env = {**os.environ, "SMS_BACKEND": "zsdx.sms.LogSmsBackend"}
    cmd = [os.path.join(ROOT, ".venv/bin/rq"), "worker", "--burst", "-w", "zsdx.worker.ZsdxWorker"]
    cmd += ["--url", os.environ["REDIS_URL"], args.queue]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    with app.app_context():
        q = db.session.query(Notification).filter(Notification.text.like(f"{tag} %"))
        delivered = q.filter(Notification.delivered_at.isnot(None)).count()
        attempts = (
            db.session.query(func.max(Notification.delivery_attempts))
            .filter(Notification.text.like(f"{tag} %"))
            .scalar()
        )
        q.delete(synchronize_session=False)
        db.session.commit()
    print(
        f"one worker (incl. its start): {elapsed:.1f} s for {len(ids)}; delivered {delivered}, max attempts {attempts}"
    )
    print(f"load average {os.getloadavg()}")
    return 0 if delivered == len(ids) and attempts == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
