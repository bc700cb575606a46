"""bench/tabular's linear baseline: scikit-learn on the same train/test CSVs flash reads.

    /usr/bin/python3 bench/tabular_linear.py train.csv test.csv TARGET classification|regression

Numeric columns (every present cell parses as a float): median imputation plus a missing indicator, then
standardisation; the other columns: one-hot with unknown categories ignored. Classification: LogisticRegression
(lbfgs, C=1, multinomial); regression: RidgeCV over alphas 0.01..100. Prints one JSON object: train_s, classes
(sorted, classification) and predictions (probability rows, or values) for the test rows in order.
"""
import csv
import json
import sys
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def read(path):
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def is_number(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


def main():
    train_file, test_file, target, kind = sys.argv[1:5]
    cols, train = read(train_file)
    _, test = read(test_file)
    t = cols.index(target)
    feats = [i for i in range(len(cols)) if i != t]
    numeric = [i for i in feats if all(r[i] == '' or is_number(r[i]) for r in train)]
    categorical = [i for i in feats if i not in numeric]

    def matrix(rows):
        num = np.array([[float(r[i]) if r[i] != '' else np.nan for i in numeric] for r in rows], dtype=float).reshape(len(rows), len(numeric))
        cat = np.array([[r[i] if r[i] != '' else '<missing>' for i in categorical] for r in rows], dtype=object).reshape(len(rows), len(categorical))
        return np.concatenate([num.astype(object), cat], axis=1)

    n = len(numeric)
    prep = ColumnTransformer([
        ('num', make_pipeline(SimpleImputer(strategy='median', add_indicator=True), StandardScaler()), list(range(n))),
        ('cat', OneHotEncoder(handle_unknown='ignore'), list(range(n, n + len(categorical)))),
    ])
    start = time.perf_counter()
    x = matrix(train)
    if kind == 'classification':
        y = [r[t] for r in train]
        model = make_pipeline(prep, LogisticRegression(max_iter=2000))
        model.fit(x, y)
        train_s = time.perf_counter() - start
        out = {'train_s': train_s, 'classes': [str(c) for c in model.classes_], 'predictions': model.predict_proba(matrix(test)).tolist()}
    else:
        y = np.array([float(r[t]) for r in train])
        model = make_pipeline(prep, RidgeCV(alphas=np.logspace(-2, 2, 9)))
        model.fit(x, y)
        train_s = time.perf_counter() - start
        out = {'train_s': train_s, 'predictions': model.predict(matrix(test)).tolist()}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
