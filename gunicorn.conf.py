"""gunicorn's settings for the production command line in README (gunicorn reads this file
from the directory it starts in).

The access log, when switched on (`--access-logfile -`), names the path without its query
string and leaves out the referring page: a query string can hold what someone typed, and
a log outlives the request."""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
