/* 数据看板: draws each section's chart with the vendored ECharts from the JSON the page carries
   (#zs-dashboard-data; labels already in Chinese, amounts as exact strings). Without JavaScript, or if the
   chart library failed to load, the tables beside the charts show the same figures. */
(function () {
  'use strict';
  var holder = document.getElementById('zs-dashboard-data');
  if (!holder || typeof window.echarts === 'undefined') { return; }
  var data;
  try { data = JSON.parse(holder.textContent || '{}'); } catch (e) { return; }

  function option(spec) {
    var horizontal = spec.categories.length > 8;  // 23 towns: bars along the y axis stay readable
    var category = { type: 'category', data: spec.categories, axisLabel: { interval: 0 } };
    var value = { type: 'value', minInterval: spec.money ? null : 1 };
    if (!horizontal) { category.axisLabel.rotate = spec.categories.length > 4 ? 30 : 0; }
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: spec.series.map(function (s) {
        return { name: s.name, type: 'bar', stack: spec.stack ? 'all' : undefined, data: s.data,
                 label: { show: !spec.stack && spec.series.length === 1, position: horizontal ? 'right' : 'top' } };
      })
    };
  }

  var charts = [];
  Array.prototype.forEach.call(document.querySelectorAll('.zs-dash-chart'), function (box) {
    var spec = data[box.getAttribute('data-chart')];
    if (!spec || !spec.categories || !spec.categories.length) { box.style.display = 'none'; return; }
    if (spec.categories.length > 8) { box.style.height = Math.max(320, spec.categories.length * 26 + 60) + 'px'; }
    spec.money = box.getAttribute('data-chart') === 'money';
    var chart = window.echarts.init(box);
    chart.setOption(option(spec));
    charts.push(chart);
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
})();
