"""`ziptieai.data`: datasets. For now the 2-D toy generators."""

from .toy import make_moons

__all__ = ["make_moons"]
