"""What every model module shares."""

import datetime as dt


def now():
    return dt.datetime.now()
