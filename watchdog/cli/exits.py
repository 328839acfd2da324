"""Exit codes of the ``watchdog`` command, one meaning each."""

RET_OK = 0  # did what was asked
RET_FAILED = 1  # ran, but found a problem (doctor found trouble, a file was not mail)
RET_CONFIG = 2  # the config or the command line is wrong: nothing was done
