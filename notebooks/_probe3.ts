import * as dfd from 'danfojs-node';
const df = new dfd.DataFrame({ r: ['a','b','a','c'], pnl: [1,-2,3,4], eq: [10, 12, 9, 13] });
const g = df.groupby(['r']).agg({ pnl: ['count', 'sum', 'mean'] });
console.log(g.columns, g.values);
const s = df['eq'] as dfd.Series;
console.log(s.cumMax().values, s.div(s.cumMax()).sub(1).min());
console.log(df.query(df['pnl'].gt(0)).values);
console.log(dfd.toJSON(df, { format: 'row' }));
