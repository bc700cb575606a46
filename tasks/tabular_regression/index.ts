import { tabularPlugin } from '../tabular/plugin.js';

/**
 * `flash tabular_regression`: a CSV of numerical and categorical columns → a number (the target standardised for
 * training, predictions and metrics in its own units). Shares tasks/tabular/ with tabular_classification.
 */
export const tabularRegression = tabularPlugin('tabular_regression');
