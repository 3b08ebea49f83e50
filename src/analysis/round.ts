/** Evidence numbers, rounded so the state and the Web UI show figures, not float noise. */
export const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
