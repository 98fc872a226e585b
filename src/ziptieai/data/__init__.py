"""`ziptieai.data`: datasets and loaders, with torch's names.

    dataset.py     Dataset, TensorDataset, Subset, random_split: samples by index
    dataloader.py  DataLoader: batches, a fresh seeded shuffle each epoch, mid-epoch resume
    datasets.py    load, available: bundled real data (digits, diabetes), never downloaded
    toy.py         make_moons, make_circles, make_spirals, make_blobs: seeded 2-D toy sets
"""

from .dataloader import DataLoader
from .dataset import Dataset, Subset, TensorDataset, random_split
from .datasets import DataFileError, available, load
from .toy import make_blobs, make_circles, make_moons, make_spirals

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "load", "available",
    "DataFileError", "make_moons", "make_circles", "make_spirals", "make_blobs",
]
