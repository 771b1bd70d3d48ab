/*
 * The HTML run report's page script (inlined into report.html by framework/report/html-report.ts, after the
 * lightweight-charts standalone build, which defines the global `LightweightCharts`).
 *
 * Reads the chart data from <script type="application/json" id="report-data"> (see ChartData in
 * framework/report/html/chart-data.ts; times in UTC seconds) and draws:
 * - #price-chart: candles, volume, overlay indicators, indicator panes, entry/exit markers at the fill prices;
 * - #equity-chart: equity, the buy-and-hold benchmark (dashed) and, in a pane below, its drawdown in percent below the
 *   running peak (equity / peak − 1).
 * - #trades: one row per trade, from <script type="application/json" id="trades-data">.
 * Zooming or scrolling one chart moves the other to the same time span; a click on a trade row zooms both on it.
 * When done it sets <body data-ready="true"> (after the charts have painted).
 */
(function () {
  'use strict';
  var LC = window.LightweightCharts;
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var trades = JSON.parse(document.getElementById('trades-data').textContent);
  var time = undelta(data.timeDeltas);

  var UP = '#26a69a';
  var DOWN = '#ef5350';
  var PALETTE = ['#2962ff', '#ff6d00', '#9c27b0', '#00897b', '#c2185b', '#6d4c41', '#546e7a', '#f9a825'];
  var PRICE_PANE_HEIGHT = 420;
  var INDICATOR_PANE_HEIGHT = 150;
  /** Marker texts (side, trade return) are shown when at most this many candles are in view. */
  var MARKER_TEXT_MAX_BARS = 400;
  /** Every fill gets its arrow when at most this many fills are in view; more are grouped into dots. */
  var MARKER_FULL_MAX_FILLS = 150;
  /** Most dots across the view when fills are grouped. */
  var MARKER_GROUPS = 120;

  /** Times from their delta encoding: the first time, then differences to the previous one. */
  function undelta(deltas) {
    var out = new Array(deltas.length);
    var t = 0;
    for (var i = 0; i < deltas.length; i++) out[i] = t += deltas[i];
    return out;
  }

  /** Drawdown in percent below the running peak, 100 × (equity / peak − 1); null where undefined. */
  function drawdownPercent(equity) {
    var out = new Array(equity.length);
    var peak = -Infinity;
    for (var i = 0; i < equity.length; i++) {
      var e = equity[i];
      if (e !== null && e > peak) peak = e;
      out[i] = e === null || !(peak > 0) ? null : (e / peak - 1) * 100;
    }
    return out;
  }

  function chartOptions() {
    return {
      autoSize: true,
      layout: {
        background: { type: 'solid', color: '#ffffff' },
        textColor: '#333333',
        fontSize: 11,
        panes: { separatorColor: '#d0d4dc', enableResize: true },
      },
      grid: { vertLines: { color: '#f0f3fa' }, horzLines: { color: '#f0f3fa' } },
      crosshair: { mode: LC.CrosshairMode.Normal },
      // The same price-scale width on both charts keeps their time axes aligned.
      rightPriceScale: { borderColor: '#d0d4dc', minimumWidth: 80 },
      // minBarSpacing below a pixel lets the whole run fit in view however many candles it has.
      timeScale: { borderColor: '#d0d4dc', timeVisible: true, secondsVisible: false, minBarSpacing: 0.001, rightOffset: 3 },
      localization: { dateFormat: 'yyyy-MM-dd' },
    };
  }

  /** Points of a value series; a null value is whitespace (no point, a gap in the line). */
  function points(time, values) {
    var out = new Array(values.length);
    for (var i = 0; i < values.length; i++) {
      out[i] = values[i] === null ? { time: time[i] } : { time: time[i], value: values[i] };
    }
    return out;
  }

  /** Histogram bars coloured by sign. */
  function signedBars(time, values, up, down) {
    var out = new Array(values.length);
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      out[i] = v === null ? { time: time[i] } : { time: time[i], value: v, color: v >= 0 ? up : down };
    }
    return out;
  }

  function legendItem(legend, name, color) {
    var item = document.createElement('span');
    var swatch = document.createElement('i');
    swatch.style.background = color;
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(name));
    legend.appendChild(item);
  }

  function priceChart(container, legend) {
    var t = time;
    var paneCount = 1 + data.panes.length;
    container.style.height = PRICE_PANE_HEIGHT + INDICATOR_PANE_HEIGHT * data.panes.length + 'px';
    var chart = LC.createChart(container, chartOptions());
    var precision = data.pricePrecision;
    var candles = chart.addSeries(LC.CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      wickUpColor: UP,
      wickDownColor: DOWN,
      borderVisible: false,
      priceFormat: { type: 'price', precision: precision, minMove: Math.pow(10, -precision) },
    }, 0);
    var bars = new Array(t.length);
    var volume = new Array(t.length);
    for (var i = 0; i < t.length; i++) {
      bars[i] = { time: t[i], open: data.open[i], high: data.high[i], low: data.low[i], close: data.close[i] };
      volume[i] = {
        time: t[i],
        value: data.volume[i],
        color: data.close[i] >= data.open[i] ? 'rgba(38,166,154,0.35)' : 'rgba(239,83,80,0.35)',
      };
    }
    candles.setData(bars);
    var volumeSeries = chart.addSeries(LC.HistogramSeries, {
      priceScaleId: 'volume',
      priceFormat: { type: 'volume' },
      lastValueVisible: false,
      priceLineVisible: false,
      title: 'volume',
    }, 0);
    volumeSeries.setData(volume);
    chart.priceScale('volume', 0).applyOptions({ scaleMargins: { top: 0.85, bottom: 0 } });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.18 } });

    var colour = 0;
    data.overlays.forEach(function (line) {
      var color = PALETTE[colour++ % PALETTE.length];
      var series = chart.addSeries(LC.LineSeries, {
        color: color, lineWidth: 1, title: line.name, priceLineVisible: false,
        crosshairMarkerVisible: false,
      }, 0);
      series.setData(points(t, line.values));
      legendItem(legend, line.name, color);
    });
    data.panes.forEach(function (pane, p) {
      pane.series.forEach(function (line) {
        var series;
        var color;
        if (line.style === 'histogram') {
          color = UP;
          series = chart.addSeries(LC.HistogramSeries, { title: line.name, priceLineVisible: false }, p + 1);
          series.setData(signedBars(t, line.values, 'rgba(38,166,154,0.6)', 'rgba(239,83,80,0.6)'));
        } else {
          color = PALETTE[colour++ % PALETTE.length];
          series = chart.addSeries(LC.LineSeries, {
            color: color, lineWidth: 1, title: line.name, priceLineVisible: false, crosshairMarkerVisible: false,
          }, p + 1);
          series.setData(points(t, line.values));
        }
        legendItem(legend, line.name, color);
      });
    });
    var panes = chart.panes();
    for (var k = 0; k < paneCount && k < panes.length; k++) {
      panes[k].setStretchFactor(k === 0 ? PRICE_PANE_HEIGHT : INDICATOR_PANE_HEIGHT);
    }

    var fills = tradeFills(trades.rows, undelta(data.fillDeltas));
    var markers = LC.createSeriesMarkers(candles, []);
    var shown = null;
    /*
     * Zoomed in (at most MARKER_FULL_MAX_FILLS fills in view), every fill gets its arrow, with text when at most
     * MARKER_TEXT_MAX_BARS bars are in view. Zoomed out, arrows would cover the candles: the fills are grouped into
     * at most MARKER_GROUPS spans of the view, each drawn as one small dot above the bars (green when the trades exiting
     * in it made money in sum, red otherwise, blue when only entries fall in it).
     */
    function showMarkers() {
      var range = chart.timeScale().getVisibleLogicalRange();
      var from = range === null ? 0 : Math.max(0, Math.floor(range.from));
      var to = range === null ? t.length - 1 : Math.min(t.length - 1, Math.ceil(range.to));
      var inView = countFills(fills, t[from], t[to]);
      var mode = inView <= MARKER_FULL_MAX_FILLS ? (to - from <= MARKER_TEXT_MAX_BARS ? 'text' : 'arrows') : 'groups:' + from + ':' + to;
      if (mode === shown) return;
      shown = mode;
      if (mode === 'text' || mode === 'arrows') {
        markers.setMarkers(fills.map(function (m) { return marker(m, mode === 'text'); }));
      } else {
        markers.setMarkers(groupMarkers(fills, t, Math.max(1, Math.ceil((to - from + 1) / MARKER_GROUPS))));
      }
    }
    showMarkers();
    chart.timeScale().subscribeVisibleLogicalRangeChange(showMarkers);
    legendItem(legend, fills.length + ' entry / exit arrows point at the fill price; a green exit is a winning trade' +
      ' (zoomed out, grouped into dots)', '#2962ff');
    return chart;
  }

  /**
   * Each trade's entry and exit fill, in time order: the side, prices and net return from its row of the trades data
   * (TradeRows: side, entry time, entry price, exit time, exit price, …, return at 8), on the bars of data.fillDeltas.
   */
  function tradeFills(rows, bars) {
    var out = [];
    rows.forEach(function (r, i) {
      out.push({ time: bars[2 * i], kind: 'entry', side: r[0], price: r[2] });
      out.push({ time: bars[2 * i + 1], kind: 'exit', side: r[0], price: r[4], returnFraction: r[8] });
    });
    return out;
  }

  /** How many fills lie between the times `from` and `to` (UTC seconds, inclusive); `fills` in time order. */
  function countFills(fills, from, to) {
    return lowerBound(fills, to + 1) - lowerBound(fills, from);
  }

  function lowerBound(fills, time) {
    var lo = 0, hi = fills.length;
    while (lo < hi) {
      var mid = (lo + hi) >>> 1;
      if (fills[mid].time < time) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** One small dot per group of `barsPerGroup` bars that holds fills (see showMarkers). */
  function groupMarkers(fills, t, barsPerGroup) {
    var out = [];
    var b = 0;
    var current = null;
    fills.forEach(function (m) {
      while (b + 1 < t.length && t[b + 1] <= m.time) b++;
      var group = Math.floor(b / barsPerGroup);
      if (current === null || current.group !== group) {
        current = { group: group, time: t[Math.min(t.length - 1, group * barsPerGroup)], sum: 0, exits: 0 };
        out.push(current);
      }
      if (m.kind === 'exit') { current.exits += 1; current.sum += m.returnFraction; }
    });
    return out.map(function (g) {
      return {
        time: g.time,
        position: 'aboveBar',
        shape: 'circle',
        color: g.exits === 0 ? '#2962ff' : g.sum > 0 ? UP : DOWN,
        size: 0.5,
      };
    });
  }

  /**
   * An entry arrow points into the trade's direction, an exit arrow out of it; the tip is at the fill price.
   * With `withText`, entries are labelled with their side and exits with the trade's net return.
   */
  function marker(m, withText) {
    var upward = (m.kind === 'entry') === (m.side === 'long');
    var color = m.kind === 'entry' ? (m.side === 'long' ? '#2962ff' : '#ff6d00') : (m.returnFraction > 0 ? UP : DOWN);
    var text = m.kind === 'entry'
      ? m.side
      : (m.returnFraction > 0 ? '+' : '') + (m.returnFraction * 100).toFixed(2) + '%';
    return {
      time: m.time,
      position: upward ? 'atPriceTop' : 'atPriceBottom',
      price: m.price,
      shape: upward ? 'arrowUp' : 'arrowDown',
      color: color,
      text: withText ? text : '',
      size: 1,
    };
  }

  function equityChart(container) {
    var e = data.equity;
    var t = e.timeDeltas === null ? time : undelta(e.timeDeltas);
    var chart = LC.createChart(container, chartOptions());
    var equity = chart.addSeries(LC.LineSeries, {
      color: '#2962ff', lineWidth: 2, title: 'equity', priceLineVisible: false,
      priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
    }, 0);
    equity.setData(points(t, e.equity));
    var hold = chart.addSeries(LC.LineSeries, {
      color: '#9e9e9e', lineWidth: 1, lineStyle: LC.LineStyle.Dashed, title: 'buy & hold', priceLineVisible: false,
      lastValueVisible: false, crosshairMarkerVisible: false,
    }, 0);
    hold.setData(points(t, e.buyAndHold));
    var drawdown = chart.addSeries(LC.BaselineSeries, {
      baseValue: { type: 'price', price: 0 },
      topLineColor: DOWN,
      bottomLineColor: DOWN,
      topFillColor1: 'rgba(239,83,80,0)',
      topFillColor2: 'rgba(239,83,80,0)',
      bottomFillColor1: 'rgba(239,83,80,0.15)',
      bottomFillColor2: 'rgba(239,83,80,0.45)',
      lineWidth: 1,
      title: 'drawdown',
      priceLineVisible: false,
      priceFormat: { type: 'custom', minMove: 0.01, formatter: function (v) { return v.toFixed(2) + '%'; } },
    }, 1);
    drawdown.setData(points(t, drawdownPercent(e.equity)));
    chart.panes()[0].setStretchFactor(2);
    chart.panes()[1].setStretchFactor(1);
    return chart;
  }

  /** Keeps the charts on the same time span: changes made by the user in one chart are applied to the others. */
  function linkTimeScales(charts, containers) {
    var driver = null;
    containers.forEach(function (el, i) {
      ['pointerdown', 'pointermove', 'wheel', 'touchstart'].forEach(function (type) {
        el.addEventListener(type, function () { driver = i; }, { passive: true });
      });
    });
    charts.forEach(function (chart, i) {
      chart.timeScale().subscribeVisibleTimeRangeChange(function (range) {
        if (driver !== i || range === null) return;
        charts.forEach(function (other, j) {
          if (j !== i) other.timeScale().setVisibleRange(range);
        });
      });
    });
  }

  function showRange(charts, from, to) {
    charts.forEach(function (chart) { chart.timeScale().setVisibleRange({ from: from, to: to }); });
  }

  /*
   * The trades table, filled from <script type="application/json" id="trades-data"> (TradeRows in
   * framework/report/html/sections.ts). Cells are formatted as framework/report/format.ts formats them (en-US numbers
   * through Intl.NumberFormat, times to the minute in UTC) and set as text, never parsed as HTML.
   */
  var fixedFormats = {};
  function number(v, digits) {
    if (v === null || Number.isNaN(v)) return 'n/a';
    if (!Number.isFinite(v)) return v > 0 ? '\u221e' : '-\u221e';
    if (fixedFormats[digits] === undefined) {
      fixedFormats[digits] = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    }
    return fixedFormats[digits].format(v);
  }
  function minute(ms) {
    return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  }

  function fillTrades(tbody, trades) {
    var body = document.createDocumentFragment();
    trades.rows.forEach(function (r, i) {
      var side = r[0], entryTime = r[1], entryPrice = r[2], exitTime = r[3], exitPrice = r[4], quantity = r[5];
      var fees = r[6], pnl = r[7], returnFraction = r[8];
      var tr = document.createElement('tr');
      tr.className = pnl > 0 ? 'win' : 'loss';
      tr.dataset.entry = String(Math.floor(entryTime / 1000));
      tr.dataset.exit = String(Math.floor(exitTime / 1000));
      [
        String(i + 1), side, minute(entryTime), number(entryPrice, trades.pricePrecision), minute(exitTime),
        number(exitPrice, trades.pricePrecision), number(quantity, trades.quantityPrecision), number(fees, 2),
        number(pnl, 2) + ' ' + trades.quote, (returnFraction === null ? 'n/a' : number(returnFraction * 100, 2) + '%'),
        r[9], r[10], r[11],
      ].forEach(function (text) {
        tr.appendChild(document.createElement('td')).textContent = text;
      });
      body.appendChild(tr);
    });
    tbody.appendChild(body);
  }
  fillTrades(document.querySelector('#trades tbody'), trades);

  var priceEl = document.getElementById('price-chart');
  var equityEl = document.getElementById('equity-chart');
  var charts = [priceChart(priceEl, document.getElementById('price-legend')), equityChart(equityEl)];
  showRange(charts, data.range.from, data.range.to);
  linkTimeScales(charts, [priceEl, equityEl]);

  document.querySelector('#trades tbody').addEventListener('click', function (event) {
    var row = event.target.closest('tr');
    if (row === null) return;
    var entry = Number(row.dataset.entry);
    var exit = Number(row.dataset.exit);
    var pad = Math.max(30 * data.barSeconds, (exit - entry) / 2);
    showRange(charts, entry - pad, exit + pad);
    priceEl.scrollIntoView({ behavior: 'smooth', block: 'start' });
  });

  requestAnimationFrame(function () {
    requestAnimationFrame(function () { document.body.dataset.ready = 'true'; });
  });
})();
