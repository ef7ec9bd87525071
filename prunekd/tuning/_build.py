"""The models of the own-data job: preprocessing, teacher and student for tables and images."""

import numpy as np
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline as sk_make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..distillation import DistillationClassifier
from ..models import MLP, SmallCNN
from ..pipeline import make_pipeline
from ..pruning import RandomPruner

# Categories rarer than this share one column: a free-text column stays small.
_MAX_CATEGORIES = 20


def is_images(X):
    """Arrays of images, ``(n, H, W)`` or ``(n, C, H, W)``, rather than a table."""
    return isinstance(X, np.ndarray) and X.ndim >= 3


_CHANNELS = (1, 3, 4)


def as_images(X):
    """Float32 images in [0, 1], channels first (channels-last images are transposed)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        X = X[:, None]
    elif X.ndim == 4 and X.shape[3] in _CHANNELS and X.shape[1] not in _CHANNELS:
        X = X.transpose(0, 3, 1, 2)  # (n, H, W, C), numpy's and PIL's layout
    top = float(X.max()) if X.size else 1.0
    return X / top if top > 1 else X


def table_preprocessor():
    """Numbers imputed (median) and standardised; other columns imputed and one-hot encoded."""
    numbers = sk_make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categories = sk_make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=_MAX_CATEGORIES,
            sparse_output=False,
        ),
    )
    return ColumnTransformer(
        [
            ("numbers", numbers, make_column_selector(dtype_include="number")),
            ("categories", categories, make_column_selector(dtype_exclude="number")),
        ],
        verbose_feature_names_out=False,
    )


def _as_frame(X):
    import pandas as pd

    if hasattr(X, "iloc"):
        return X
    # An object array (a DataFrame's .to_numpy()) keeps numbers as Python floats:
    # give them back a numeric dtype, or they would be one-hot encoded as text.
    return pd.DataFrame(np.asarray(X)).infer_objects()


def table_models(random_state, max_epochs):
    """A gradient-boosting teacher on the raw table, and the student's pipeline (MLP)."""
    teacher = sk_make_pipeline(
        table_preprocessor(), HistGradientBoostingClassifier(random_state=random_state)
    )
    student = DistillationClassifier(
        MLP,
        module__hidden=(128,),
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=64,
        max_epochs=max_epochs or 30,
        verbose=0,
        random_state=random_state,
    )
    return teacher, lambda fitted: make_pipeline(
        table_preprocessor(),
        RandomPruner(random_state=random_state),
        clone(student).set_params(teacher=fitted),
    )


def image_models(n_classes, in_channels, random_state, max_epochs):
    """A wide small CNN as teacher and a small CNN student, on images of any known shape."""

    def cnn(width, epochs, **kwargs):
        return DistillationClassifier(
            SmallCNN,
            module__n_classes=n_classes,
            module__in_channels=in_channels,
            module__width=width,
            optimizer=torch.optim.Adam,
            lr=3e-3,
            batch_size=32,
            max_epochs=epochs,
            verbose=0,
            random_state=random_state,
            **kwargs,
        )

    teacher = cnn(64, max_epochs or 30, alpha=0.0)
    student = cnn(16, max_epochs or 30)
    return teacher, lambda fitted: make_pipeline(
        RandomPruner(random_state=random_state), clone(student).set_params(teacher=fitted)
    )


def prepare(X, y, random_state, max_epochs):
    """``X`` as the models read it, the unfitted teacher and a builder of the pipeline."""
    if is_images(X):
        X = as_images(X)
        teacher, pipeline = image_models(len(np.unique(y)), X.shape[1], random_state, max_epochs)
        return X, teacher, pipeline
    teacher, pipeline = table_models(random_state, max_epochs)
    return _as_frame(X), teacher, pipeline
