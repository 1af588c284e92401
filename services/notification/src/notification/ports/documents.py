"""The aggregate-collection port (shared by every service)."""

from shared_kernel.infra.ports import Documents

__all__ = ["Documents"]
