/* zsdx front-end helpers: CSRF header for AJAX, SMS code buttons, registry fuzzy search, tabs. */
(function ($) {
  function csrfToken() { return $('meta[name="csrf-token"]').attr('content'); }

  // A page shown again from the browser's history keeps what was typed but may carry a stale CSRF token
  // (the session ran out, or the user logged in again in another window): fetch a fresh one into the page.
  function refreshCsrf() {
    return $.getJSON('/csrf-token').done(function (res) {
      if (!res || !res.csrf_token) { return; }
      $('meta[name="csrf-token"]').attr('content', res.csrf_token);
      $('input[name="csrf_token"], input[name$="-csrf_token"]').val(res.csrf_token);
    });
  }
  window.zsRefreshCsrf = refreshCsrf;
  window.addEventListener('pageshow', function (e) {
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType('navigation')[0] : null;
    if (e.persisted || (nav && nav.type === 'back_forward')) { refreshCsrf(); }
  });
  // 返回上一页 on the error pages: history.back() brings the form back with what was typed.
  $(document).on('click', '.zs-history-back', function (e) {
    if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });

  function showError(input, message) {
    var box = $('#' + input.attr('id') + '-error');
    box.text(message || '');
    input.closest('.form-group').toggleClass('has-error', !!message);
  }

  $(document).on('click', '.zs-sms-btn', function () {
    var btn = $(this);
    if (btn.prop('disabled')) { return; }
    var form = btn.closest('form');
    // The phone field by its id; a bare [name$="phone"] would also match "old_phone" (修改绑定手机号).
    var phoneId = String(btn.data('phone'));
    var phoneInput = form.find('input[id="' + phoneId + '"]').first();
    if (!phoneInput.length) {
      phoneInput = form.find('input[name="' + phoneId + '"], input[name$="-' + phoneId + '"]').first();
    }
    if (!phoneInput.length) { phoneInput = $('#' + phoneId); }
    var codeInput = btn.closest('.input-group').find('input');
    $.ajax({
      url: '/sms/send', method: 'POST', contentType: 'application/json',
      headers: {'X-CSRFToken': csrfToken()},
      data: JSON.stringify({phone: $.trim(phoneInput.val()), purpose: btn.data('purpose')})
    }).done(function (res) {
      showError(phoneInput, ''); showError(codeInput, '');
      var left = 60, label = btn.data('label'), wait = String(btn.data('wait'));
      btn.prop('disabled', true).text(wait.replace('{s}', left));
      var timer = setInterval(function () {
        left -= 1;
        if (left <= 0) { clearInterval(timer); btn.prop('disabled', false).text(label); }
        else { btn.text(wait.replace('{s}', left)); }
      }, 1000);
    }).fail(function (xhr) {
      var res = xhr.responseJSON || {};
      if (res.csrf_expired) { refreshCsrf(); }
      // every refusal of /sms/send is JSON with a Chinese message; the button's own text covers the rest
      var message = res.message || String(btn.data('error'));
      if (res.field === 'phone') { showError(phoneInput, message); }
      else { showError(codeInput, message); }
    });
  });

  $(document).on('click', '#captcha-img', function () {
    this.src = this.src.split('?')[0] + '?t=' + Date.now();
  });

  // Registration tabs 企业 / 服务商
  $(document).on('click', '.zs-kind-tabs a', function (e) {
    e.preventDefault();
    var kind = $(this).data('kind');
    $('.zs-kind-tabs li').removeClass('active');
    $(this).parent().addClass('active');
    $('#kind').val(kind);
    $('.zs-provider-only').toggle(kind === 'provider');
  });

  // Business registry fuzzy search: fills the credit code and the town.
  var results = $('#registry-results');
  if (results.length) {
    var nameInput = $('#' + (results.data('name') || 'org_name'));
    var codeInput = $('#' + (results.data('code') || 'credit_code'));
    var townInput = $('#' + (results.data('town') || 'town_id'));
    var timer = null;
    nameInput.on('input', function () {
      clearTimeout(timer);
      var q = $.trim(nameInput.val());
      if (q.length < 2) { results.empty(); return; }
      timer = setTimeout(function () {
        $.getJSON('/register/registry', {q: q}, function (data) {
          results.empty();
          $.each(data.results, function (i, r) {
            $('<li class="list-group-item zs-registry-item"></li>')
              .text(r.name + '（' + r.credit_code + '）')
              .data('r', r).appendTo(results);
          });
        });
      }, 250);
    });
    results.on('click', '.zs-registry-item', function () {
      var r = $(this).data('r');
      nameInput.val(r.name);
      codeInput.val(r.credit_code);
      if (r.town_id) { townInput.val(String(r.town_id)); }
      results.empty();
    });
    $(document).on('click', function (e) { if (!$(e.target).closest('.zs-registry-wrap').length) { results.empty(); } });
  }
})(jQuery);

/* 项目备案 form: pages, preview, the SME scale calculator. */
(function ($) {
  $(document).on('click', '.zs-goto-page', function () {
    var page = $(this).data('page');
    $('#tab-page-' + page).tab('show');
    $('#page-input').val(page);
    window.scrollTo(0, 0);
  });
  $(document).on('shown.bs.tab', '#filing-pages a', function () {
    $('#page-input').val(this.id === 'tab-page-2' ? 2 : 1);
  });
  $(document).on('click', '#btn-preview', function () {
    var body = $('#preview-body').empty();
    $('#filing-form .form-group[data-field]').each(function () {
      var g = $(this), label = $.trim(g.find('.control-label').first().text()).replace(/^\*\s*/, '');
      var value;
      var checked = g.find('input:checked');
      if (checked.length) { value = checked.map(function () { return $.trim($(this).parent().text()); }).get().join('、'); }
      else if (g.find('select').length) { value = g.find('select option:selected').text(); }
      else if (g.find('input[type=file]').length) { value = g.find('.zs-file-link').text(); }
      else { value = g.find('input,textarea').first().val(); }
      $('<dt></dt>').text(label).appendTo(body);
      $('<dd></dd>').text(value || '—').appendTo(body);
    });
  });
  // National SME classification for industry (工信部联企业〔2011〕300号): employees X, revenue Y (万元).
  $(document).on('click', '#calc-scale', function () {
    var x = parseFloat($('#calc-employees').val()), y = parseFloat($('#calc-revenue').val());
    if (isNaN(x) || isNaN(y)) { return; }
    var scale = null;
    if (x >= 1000 && y >= 40000) { $('#calc-result').text($(this).data('large')); return; }
    if (x >= 300 && y >= 2000) { scale = 'medium'; }
    else if (x >= 20 && y >= 300) { scale = 'small'; }
    else { scale = 'micro'; }
    var radio = $('input[name="ent_scale"][value="' + scale + '"]').prop('checked', true);
    $('#calc-result').text($.trim(radio.parent().text()));
  });
})(jQuery);

/* 评估评测 questionnaire: 无 excludes the rest, device counts pick the rate band, scenario progress. */
(function ($) {
  var form = $('#assessment-form');
  if (!form.length) { return; }
  form.on('change', 'input[type=checkbox]', function () {
    var box = $(this), group = form.find('input[name="' + this.name + '"]');
    if (box.prop('checked') && box.data('exclusive')) { group.not(box).prop('checked', false); }
    else if (box.prop('checked')) { group.filter('[data-exclusive]').prop('checked', false); }
  });
  function fieldValue(ref) { return parseFloat(form.find('input[name="f_' + ref + '"]').val()); }
  function inBand(b, rate) {
    var above = b.low_closed ? rate >= b.low : rate > b.low;
    var below = b.high_closed ? rate <= b.high : rate < b.high;
    return above && below;
  }
  function updateBands() {
    form.find('[data-band]').each(function () {
      var q = $(this), spec = q.data('band'), qid = q.data('question');
      var num = fieldValue(spec.numerator), den = fieldValue(spec.denominator);
      var radios = q.find('input[type=radio]');
      if (isNaN(num) || isNaN(den) || den <= 0 || num > den) {
        $('#rate-' + qid).text('—'); radios.prop('disabled', false); return;
      }
      var rate = num / den * 100;
      $('#rate-' + qid).text(rate.toFixed(2));
      $.each(spec.bands, function (i, b) {
        var radio = radios.filter('[value="' + b.option + '"]');
        var ok = inBand(b, rate);
        radio.prop('disabled', !ok);
        if (ok) { radio.prop('checked', true); }
      });
    });
  }
  form.on('input change', '.zs-qfield', updateBands);
  updateBands();
  form.on('submit', function () { form.find('input[type=radio]:disabled').prop('disabled', false); });
  function updateProgress() {
    var chosen = 0, total = 0;
    form.find('.zs-scenario-chip').each(function () {
      var sid = $(this).data('scenario'), picked = form.find('input[name="s_' + sid + '"]:checked').length > 0;
      $(this).toggleClass('chosen', picked); total += 1; if (picked) { chosen += 1; }
    });
    var tpl = String($('#scenario-progress').data('template'));
    $('#scenario-progress').text(tpl.replace('{chosen}', chosen).replace('{open}', total - chosen));
  }
  form.on('change', '.zs-scenario-level', updateProgress);
  $(document).on('click', '.zs-goto-part', function () {
    $('#tab-part-' + $(this).data('part')).tab('show'); window.scrollTo(0, 0);
  });
  var firstError = form.find('.zs-question.has-error').first();
  if (firstError.length) {
    var pane = firstError.closest('.tab-pane');
    if (pane.closest('#part-2').length) { $('#tab-part-2').tab('show'); }
    else { $('a[href="#' + pane.attr('id') + '"]').tab('show'); }
  }
})(jQuery);

/* 审核工作台: select all rows, confirm bulk approval. */
(function ($) {
  $(document).on('change', '#check-all', function () {
    $('.zs-row-check').prop('checked', $(this).prop('checked'));
  });
  $(document).on('click', '[data-confirm]', function (e) {
    if (!window.confirm($(this).data('confirm'))) { e.preventDefault(); }
  });
})(jQuery);

/* File inputs: a file over the upload limit is refused in the browser, before hundreds of MB are sent. The
   limit and its Chinese message come from <meta name="zs-max-file-bytes"> (base.html). */
(function ($) {
  var meta = $('meta[name="zs-max-file-bytes"]');
  if (!meta.length) { return; }
  var message = String(meta.data('message'));
  function tooLarge(input) {
    var limit = parseInt(meta.attr('content'), 10);
    if (!limit) { return false; }
    return $.grep(input.files ? $.makeArray(input.files) : [], function (f) { return f.size > limit; }).length > 0;
  }
  function errorBox(input) {
    var box = input.id ? $('#' + input.id + '-error') : $();
    if (!box.length) {
      box = $(input).next('.zs-file-size-error');
      if (!box.length) { box = $('<span class="help-block zs-error zs-file-size-error"></span>').insertAfter(input); }
    }
    return box;
  }
  function check(input) {
    var bad = tooLarge(input);
    if (bad || errorBox(input).data('zs-size')) {
      errorBox(input).text(bad ? message : '').data('zs-size', bad);
      $(input).closest('.form-group').toggleClass('has-error', bad);
    }
    if (bad) { input.value = ''; }
    return !bad;
  }
  $(document).on('change', 'input[type=file]', function () { check(this); });
  $(document).on('submit', 'form', function (e) {
    var ok = true;
    $(this).find('input[type=file]').each(function () { ok = check(this) && ok; });
    if (!ok) { e.preventDefault(); }
  });
})(jQuery);

/* 项目签约: the contract tab holding an error opens first; the price warning follows the typed price; the
   【添加产品/服务】 dialog searches the catalog (listed products only) without leaving the page. */
(function ($) {
  var form = $('#signing-form');
  if (!form.length) { return; }
  var bad = form.find('.zs-contract-panes .has-error').first().closest('.tab-pane');
  if (bad.length) { $('a[href="#' + bad.attr('id') + '"]').tab('show'); }
  var hash = window.location.hash;
  if (hash && /^#contract-\d+$/.test(hash)) { $('a[href="' + hash + '"]').tab('show'); }
  function money(text) {
    // compare as 4-place fixed-point integers: no float rounding (the amounts are in 万元)
    var m = /^\s*(\d{1,10})(?:\.(\d{0,4}))?\s*$/.exec(text || '');
    if (!m) { return null; }
    return parseInt(m[1], 10) * 10000 + parseInt(((m[2] || '') + '0000').slice(0, 4), 10);
  }
  form.on('input change', 'input[data-max]', function () {
    var price = money($(this).val()), max = money(String($(this).data('max')));
    var over = price !== null && max !== null && price > max;
    $('#' + this.id.replace(/-price$/, '-warning')).toggleClass('hidden', !over);
  });
  function toggleSend() {
    $('#assist-send').toggle($('#assisted-yes').is(':checked'));
  }
  $(document).on('change', 'input[name=assisted]', toggleSend);
  toggleSend();
  var dialog = $('#catalog-dialog');
  function search() {
    var url = dialog.data('search'), q = $('#catalog-q').val();
    $.getJSON(url, { q: q }).done(function (rows) {
      var body = $('#catalog-results tbody').empty();
      if (!rows.length) {
        body.append($('<tr class="zs-empty-row"><td colspan="7" class="zs-empty"></td></tr>')
          .find('td').text(body.closest('table').data('empty') || '').end());
        return;
      }
      $.each(rows, function (i, r) {
        var tr = $('<tr></tr>').attr('data-product', r.id);
        $('<td></td>').append($('<input type="radio" name="pick_product" form="signing-form">')
          .attr('value', r.id).attr('id', 'pick-' + r.id)).appendTo(tr);
        $('<td></td>').text(i + 1).appendTo(tr);
        $('<td></td>').text(r.code).appendTo(tr);
        $('<td></td>').append($('<label></label>').attr('for', 'pick-' + r.id).text(r.name)).appendTo(tr);
        $('<td></td>').text(r.supplier).appendTo(tr);
        $('<td></td>').text(r.max_price).appendTo(tr);
        $('<td></td>').text(r.purchase_mode).appendTo(tr);
        body.append(tr);
      });
    });
  }
  $(document).on('click', '#catalog-search', search);
  $(document).on('keydown', '#catalog-q', function (e) { if (e.which === 13) { e.preventDefault(); search(); } });
  $(document).on('click', '#catalog-results tbody tr', function (e) {
    if (!$(e.target).is('input')) { $(this).find('input[type=radio]').prop('checked', true); }
  });
})(jQuery);

// A part shown only for one value of a select (e.g. 【发起评估】's 评估机构名称 for 评估机构评估):
// data-shown-by="#the-select" data-shown-for="value". Without JavaScript every part stays visible.
(function ($) {
  function sync(select) {
    $('[data-shown-by="#' + select.id + '"]').each(function () {
      $(this).toggle($(select).val() === String($(this).data('shown-for')));
    });
  }
  $(document).on('change', 'select', function () { if (this.id) { sync(this); } });
  $(function () {
    $('[data-shown-by]').each(function () {
      var select = $($(this).data('shown-by'))[0];
      if (select) { sync(select); }
    });
  });
})(jQuery);

/* 项目实施-改造完成: the invoice tab holding an error (or named in the URL) opens first; a tab shows 发票<号码>
   as the number is typed; 价税合计 of each line and the three totals follow the typed amounts, computed in
   whole fen (fixed-point integers: no float drift); the server recomputes them all on save. 行业型服务商协助
   填写: the lead unit's picker shows with 是. */
(function ($) {
  var form = $('#completion-form');
  if (!form.length) { return; }
  var bad = form.find('.zs-invoice-panes .has-error, .zs-invoice-panes .zs-error:not(:empty)').first().closest('.tab-pane');
  var hash = window.location.hash;
  if (bad.length) { $('a[href="#' + bad.attr('id') + '"]').tab('show'); }
  else if (hash && /^#invoice-\d+$/.test(hash)) { $('a[href="' + hash + '"]').tab('show'); }
  function fen(text) {
    // '1234.5' → 123450 fen; null when not a plain amount (at most 2 places)
    var m = /^\s*(\d{1,12})(?:\.(\d{0,2}))?\s*$/.exec(text || '');
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || '') + '00').slice(0, 2), 10);
  }
  function yuan(cents) {
    var sign = cents < 0 ? '-' : '', abs = Math.abs(cents), frac = String(abs % 100);
    return sign + String(Math.floor(abs / 100)) + '.' + (frac.length < 2 ? '0' + frac : frac);
  }
  function recompute() {
    var amount = 0, tax = 0;
    form.find('tr.zs-line').each(function () {
      var row = $(this), a = fen(row.find('.zs-line-amount').val()), t = fen(row.find('.zs-line-tax').val());
      var empty = !$.trim(row.find('.zs-line-amount').val()) && !$.trim(row.find('.zs-line-tax').val());
      var ok = (a !== null || !$.trim(row.find('.zs-line-amount').val())) && (t !== null || !$.trim(row.find('.zs-line-tax').val()));
      row.find('.zs-line-total').val(empty || !ok ? '' : yuan((a || 0) + (t || 0)));
      if (ok) { amount += a || 0; tax += t || 0; }
    });
    $('#total-amount').text(yuan(amount));
    $('#total-tax').text(yuan(tax));
    $('#total-sum').text(yuan(amount + tax));
  }
  form.on('input change', '.zs-line-amount, .zs-line-tax', recompute);
  form.on('input', 'input[id^="invoice-"][id$="-number"]', function () {
    var pane = $(this).closest('.tab-pane'), tab = $('a[href="#' + pane.attr('id') + '"]');
    tab.text(String(tab.data('label')) + ($.trim($(this).val()) || String(tab.data('fallback'))));
  });
  function toggleSend() {
    $('#assist-send').toggle($('#assisted-yes').is(':checked'));
  }
  form.on('change', 'input[name=assisted]', toggleSend);
  toggleSend();
})(jQuery);

/* 项目实施-改造中: the lead unit to send the page to shows with 是 only; an unticked 维度指标 (不涉及) greys its row
   and its 指标数据（改造前） is read-only until ticked again. */
(function ($) {
  var form = $('#implementation-form');
  if (!form.length) { return; }
  function toggleSend() {
    form.find('#assist-send').toggle(form.find('#assisted-yes').is(':checked'));
  }
  form.on('change', 'input[name=assisted]', toggleSend);
  toggleSend();
  form.on('change', '.zs-dimension-tick', function () {
    var row = $(this).closest('tr'), ticked = this.checked;
    row.toggleClass('text-muted', !ticked);
    row.find('textarea').prop('readOnly', !ticked);
    if (ticked) { row.find('textarea').trigger('focus'); }
  });
})(jQuery);
