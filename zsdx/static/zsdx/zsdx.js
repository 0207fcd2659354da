/* zsdx front-end helpers: CSRF header for AJAX, SMS code buttons, registry fuzzy search, tabs. */
(function ($) {
  var csrf = $('meta[name="csrf-token"]').attr('content');

  function showError(input, message) {
    var box = $('#' + input.attr('id') + '-error');
    box.text(message || '');
    input.closest('.form-group').toggleClass('has-error', !!message);
  }

  $(document).on('click', '.zs-sms-btn', function () {
    var btn = $(this);
    if (btn.prop('disabled')) { return; }
    var form = btn.closest('form');
    var phoneInput = form.find('[name$="' + btn.data('phone') + '"]').filter('input').first();
    if (!phoneInput.length) { phoneInput = $('#' + btn.data('phone')); }
    var codeInput = btn.closest('.input-group').find('input');
    $.ajax({
      url: '/sms/send', method: 'POST', contentType: 'application/json',
      headers: {'X-CSRFToken': csrf},
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
      if (res.field === 'phone') { showError(phoneInput, res.message); }
      else { showError(codeInput, res.message || xhr.statusText); }
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
