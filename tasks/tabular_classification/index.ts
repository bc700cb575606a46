import { tabularPlugin } from '../tabular/plugin.js';

/**
 * `flash tabular_classification`: a CSV of numerical and categorical columns → classes. The data layer, model,
 * commands and run are shared with tabular_regression in tasks/tabular/.
 */
export const tabularClassification = tabularPlugin('tabular_classification');
