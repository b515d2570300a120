"""One full scan at a time: an exclusive lock file in the output folder, held by the scanning process.

The operating system releases the lock when the process ends, however it ends, so a crashed scan
never leaves a stale lock behind. On-demand audits of one site do not take it.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path


EXIT_BUSY = 3   # `sitecensus scan`'s exit code when another scan holds the lock


def pid_alive(pid: int | None) -> bool:
    """Is process `pid` alive on this machine?"""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # alive, someone else's
        return True
    return True


class ScanBusy(RuntimeError):
    pass


class ScanLock:
    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / "scan.lock"
        self._file = None

    def __enter__(self) -> "ScanLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise ScanBusy(f"另一次检测正在运行（进程 {holder}，锁文件 {self.path}）；本次不再启动") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._file:
            self._file.close()   # closing releases the lock
            self._file = None
