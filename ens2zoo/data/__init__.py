"""The CASCADE-format ground-truth database, preprocessed as published by ENS².

Typical use::

    from ens2zoo.data import find_datasets, load_dataset, TrainingWindows

    folders = find_datasets(root, "DS0[2-9]*,DS1*,DS2[01]*")  # ENS² excitatory training set
    windows = TrainingWindows([load_dataset(f) for f in folders])
    traces, rates, spikes = windows.sample_batch(np.random.default_rng(0), 1024)

Preprocessed neurons are cached as ``.npz`` files (see :mod:`ens2zoo.data.cache`).
"""

from ens2zoo.data.cache import cache_dir
from ens2zoo.data.catalog import CATALOG_COLUMNS, catalog
from ens2zoo.data.dataset import (
                                  EXCITATORY,
                                  INHIBITORY,
                                  Dataset,
                                  DatasetName,
                                  cell_type_of,
                                  parse_dataset_name,
)
from ens2zoo.data.discovery import find_datasets
from ens2zoo.data.loader import load_dataset, load_datasets, load_neuron, selected_datasets
from ens2zoo.data.matfile import RawTrial, read_trials
from ens2zoo.data.neuron import Neuron, build_neuron
from ens2zoo.data.recording import (
                                  Recording,
                                  RecordingSkipped,
                                  preprocess_recording,
                                  smooth_counts,
)
from ens2zoo.data.windows import TrainingWindows

__all__ = [
    "CATALOG_COLUMNS", "EXCITATORY", "INHIBITORY", "Dataset", "DatasetName", "Neuron", "RawTrial",
    "Recording", "RecordingSkipped", "TrainingWindows", "build_neuron", "cache_dir", "catalog",
    "cell_type_of", "find_datasets", "load_dataset", "load_datasets", "load_neuron",
    "parse_dataset_name", "preprocess_recording", "read_trials", "selected_datasets", "smooth_counts",
]
