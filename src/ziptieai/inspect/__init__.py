"""`ziptieai.inspect`: see what training does, step by step (learner tools).

recorder: Recorder (hooks in, records out; save/load as JSON + NPZ); explain: plain sentences
and checks from a run's own numbers (Spearman, ΔW = −lr·g, Adam's effective step, examples).
"""

from .explain import Explanation, explain, input_scaling_check, spearman, weight_story
from .graph import draw_graph
from .recorder import Recorder, RecorderCallback, load_records, save_records, summarize
from .report import write_report

# race and plots (matplotlib, optional): see their modules

__all__ = ["Explanation", "Recorder", "RecorderCallback", "explain", "input_scaling_check",
           "load_records", "save_records", "spearman", "summarize", "weight_story",
           "draw_graph", "write_report"]
