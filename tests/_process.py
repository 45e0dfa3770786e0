"""What tests read about their own process."""


def rss_mb() -> float:
    """This process's resident memory (VmRSS, Linux only), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise OSError("no VmRSS")
